// The launcher's glibc malloc settings (bin/malloc-tunables.js, plain JavaScript without types),
// which `npx botcriptofy`, `npm start` and the image give their processes: the benches run their
// new processes with them to measure the path production takes.
export const { MALLOC_TUNABLES } = (await import(new URL('../bin/malloc-tunables.js', import.meta.url).href)) as {
  MALLOC_TUNABLES: string;
};
