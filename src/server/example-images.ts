import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The example workflows name their images relative to the input folder ("images/sunset.jpg"),
 * as ComfyUI's LoadImage does. A fresh input folder gets a copy of each example image it lacks,
 * so every example opens and runs as is; a user's file of the same name is never overwritten.
 */
export async function provideExampleImages(examplesDir: string, inputDir: string): Promise<void> {
  const source = join(examplesDir, 'images');
  const names = await readdir(source).catch(() => [] as string[]);
  if (names.length === 0) return;
  const target = join(inputDir, 'images');
  await mkdir(target, { recursive: true });
  for (const name of names) {
    // COPYFILE_EXCL: an existing file is the user's, keep it.
    await copyFile(join(source, name), join(target, name), 1).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
