import { ContextMenu, LGraphCanvas, LiteGraph, NumberWidget, type LGraphNode } from '@comfyorg/litegraph';

/**
 * Workflows and MP4s come from strangers, and litegraph 0.17.2 puts some of their strings into
 * the page as HTML: a node's type as a context-menu title, a slot's type as the slot menu's
 * title, a property name in the Properties submenu, a node's type in the Properties panel. A
 * placeholder whose type is `<meta http-equiv=refresh …>` navigated the tab on one right-click.
 * Its number widget also `eval`s what is typed into the prompt (the page's CSP blocks that,
 * and must stay). These overrides close each sink at our boundary, once, at start-up; every
 * one keeps litegraph's own code and only changes what reaches `innerHTML` or `eval`.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

type MenuValue = string | { title?: unknown; content?: unknown } | null;

/**
 * litegraph sets a menu's title and each entry's name (or `title`) with innerHTML. Entries
 * keep their values (callbacks receive them unchanged); only what is displayed is escaped.
 * `allow_html` is litegraph's own Properties submenu, whose markup is escaped below.
 */
class TextContextMenu<T> extends ContextMenu<T> {
  constructor(values: ConstructorParameters<typeof ContextMenu<T>>[0], options: ConstructorParameters<typeof ContextMenu<T>>[1]) {
    super(values, typeof options?.title === 'string' ? { ...options, title: escapeHtml(options.title) } : options);
  }

  override addItem(...[name, value, options]: Parameters<ContextMenu<T>['addItem']>): HTMLElement {
    if ((options as { allow_html?: boolean } | undefined)?.allow_html) return super.addItem(name, value, options);
    const entry = value as MenuValue;
    const shown = name === null ? null : escapeHtml(String(name));
    if (entry === null || typeof entry !== 'object' || typeof entry.title !== 'string') return super.addItem(shown, value, options);
    // The entry object is what callbacks receive: escape its title only while litegraph draws it.
    const title = entry.title;
    entry.title = escapeHtml(title);
    try {
      return super.addItem(shown, value, options);
    } finally {
      entry.title = title;
    }
  }
}

/** A number typed into a number widget's prompt: a plain number, or NaN (which the widget refuses). */
export function parseTypedNumber(text: unknown): number {
  const trimmed = String(text ?? '').trim();
  return trimmed === '' ? Number.NaN : Number(trimmed);
}

let numberPromptOpen = false;

export function makeLitegraphSafe(): void {
  LiteGraph.ContextMenu = TextContextMenu as typeof ContextMenu;

  // NumberWidget.onClick hands the typed text to eval when it starts with a digit ("1;…//1.5").
  // Handing it a number instead makes that eval a no-op (eval returns non-strings unchanged).
  const numberClick = NumberWidget.prototype.onClick;
  NumberWidget.prototype.onClick = function (this: NumberWidget, ...args: Parameters<typeof numberClick>) {
    numberPromptOpen = true;
    try {
      return numberClick.apply(this, args);
    } finally {
      numberPromptOpen = false;
    }
  };
  const prompt = LGraphCanvas.prototype.prompt;
  LGraphCanvas.prototype.prompt = function (this: LGraphCanvas, title, value, callback, ...rest) {
    const numeric = numberPromptOpen && typeof callback === 'function';
    const answer = numeric ? (text: unknown) => (callback as (value: unknown) => void)(parseTypedNumber(text)) : callback;
    return prompt.call(this, title, value, answer, ...rest);
  } as typeof prompt;

  // The Properties submenu builds `<span class='property_name'>${label or name}</span>` (values
  // are escaped by litegraph already): hand it escaped labels while it builds the menu.
  const showProperties = LGraphCanvas.onShowMenuNodeProperties;
  LGraphCanvas.onShowMenuNodeProperties = function (...args: Parameters<typeof showProperties>) {
    const node = args[4];
    if (!node) return showProperties.apply(this, args);
    const info = node.getPropertyInfo;
    node.getPropertyInfo = function (this: LGraphNode, property: string) {
      const found = info.call(this, property);
      return { ...found, label: escapeHtml(String(found.label || property)) };
    };
    try {
      return showProperties.apply(this, args);
    } finally {
      delete (node as Partial<LGraphNode>).getPropertyInfo;
      if (node.getPropertyInfo !== info) node.getPropertyInfo = info;
    }
  };

  // The Properties panel writes `<span class='node_type'>${node.type}</span>` with innerHTML,
  // synchronously while it opens: show it the escaped type for that moment.
  const showPanel = LGraphCanvas.prototype.showShowNodePanel;
  LGraphCanvas.prototype.showShowNodePanel = function (this: LGraphCanvas, node: LGraphNode) {
    const type = node.type;
    if (typeof type === 'string') node.type = escapeHtml(type);
    try {
      return showPanel.call(this, node);
    } finally {
      node.type = type;
    }
  };
}
