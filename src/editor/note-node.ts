import { LGraphNode, LiteGraph, type IWidget } from '@comfyorg/litegraph';

/**
 * ComfyUI's Note and MarkdownNote: text on the canvas, never run (the runtime skips them and the
 * queued prompt leaves them out). Registered here so shared workflows show them as notes, not
 * as missing nodes, and their text survives a re-save in widgets_values.
 */
export function registerNoteTypes(): void {
  for (const type of ['Note', 'MarkdownNote']) {
    class NoteNode extends LGraphNode {
      static override title = type === 'Note' ? 'Note' : 'Markdown Note';
      constructor(title?: string) {
        super(title ?? NoteNode.title);
        this.serialize_widgets = true;
        this.color = '#432';
        this.bgcolor = '#653';
        this.addCustomWidget({ type: 'text', name: 'text', value: '', options: { multiline: true }, y: 0 } as unknown as IWidget);
        this.size = [320, 80];
      }
    }
    LiteGraph.registerNodeType(type, NoteNode);
  }
}
