import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';

// SVG → PNG with resvg (a Rust renderer shipped prebuilt in the npm package: nothing is
// downloaded at install or run time). Text needs a font file: DejaVu Sans is looked for in
// the usual font folders (and in the `dejavu-fonts-ttf` npm package when it is installed);
// with no font at all the chart still renders, without its labels.

const FONT_DIRS = [
  '/usr/share/fonts',
  '/usr/local/share/fonts',
  path.join(os.homedir(), '.fonts'),
  path.join(os.homedir(), '.local/share/fonts'),
  '/Library/Fonts',
  '/System/Library/Fonts',
  'C:\\Windows\\Fonts',
];

export interface FontSetup {
  /** DejaVu Sans (regular, bold) when found: loaded alone, which is fast. */
  readonly fontFiles: readonly string[];
  /** Folders that exist, scanned when DejaVu is not found. */
  readonly fontDirs: readonly string[];
  /** Whether any font file was seen at all (false: labels will be missing). */
  readonly anyFont: boolean;
}

function packageFontDir(): string | undefined {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json'));
  } catch {
    return undefined;
  }
}

function findFiles(dir: string, test: (name: string) => boolean, depth = 4, found: string[] = []): string[] {
  if (depth < 0 || found.length > 200) return found;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findFiles(full, test, depth - 1, found);
    else if (test(entry.name)) found.push(full);
  }
  return found;
}

let cached: FontSetup | undefined;

/** Where the fonts are on this machine (looked up once). */
export function fontSetup(extraDirs: readonly string[] = []): FontSetup {
  if (cached && extraDirs.length === 0) return cached;
  const fromPackage = packageFontDir();
  const dirs = [...extraDirs, ...(fromPackage ? [fromPackage] : []), ...FONT_DIRS].filter((dir) => fs.existsSync(dir));
  const files = dirs.flatMap((dir) => findFiles(dir, (name) => /\.(ttf|otf|ttc)$/i.test(name)));
  const pick = (name: string) => files.find((file) => path.basename(file) === name);
  const dejavu = [pick('DejaVuSans.ttf'), pick('DejaVuSans-Bold.ttf')].filter((file): file is string => file !== undefined);
  const setup = { fontFiles: dejavu, fontDirs: dirs, anyFont: files.length > 0 };
  if (extraDirs.length === 0) cached = setup;
  return setup;
}

export interface RenderOptions {
  /** Extra font folders to look in first. */
  readonly fontDirs?: readonly string[];
  /** No fonts at all (tests of the font-less path). */
  readonly noFonts?: boolean;
}

function resvgOptions(options: RenderOptions): ResvgRenderOptions {
  const fonts = options.noFonts ? { fontFiles: [], fontDirs: [], anyFont: false } : fontSetup(options.fontDirs ?? []);
  const font =
    fonts.fontFiles.length > 0
      ? { loadSystemFonts: false, fontFiles: [...fonts.fontFiles], defaultFontFamily: 'DejaVu Sans' }
      : { loadSystemFonts: !options.noFonts, fontDirs: [...fonts.fontDirs] };
  return { fitTo: { mode: 'original' }, background: '#ffffff', font };
}

/** Renders an SVG to PNG bytes (on this thread: tens of milliseconds for a chart). */
export function svgToPng(svg: string, options: RenderOptions = {}): Buffer {
  return new Resvg(svg, resvgOptions(options)).render().asPng();
}

/** The same on libuv's thread pool, leaving the event loop (and Telegram's timing) alone. */
export async function svgToPngAsync(svg: string, options: RenderOptions = {}): Promise<Buffer> {
  return (await renderAsync(svg, resvgOptions(options))).asPng();
}

/** PNG width and height from its IHDR chunk; throws when the bytes are not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
