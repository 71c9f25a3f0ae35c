// glibc's malloc settings for botcriptofy processes (GLIBC_TUNABLES). glibc reads them only when
// a process starts, so the same string is written where processes start: bin/botcriptofy.js's
// first line for `npx botcriptofy` and `./bin/botcriptofy.js` (a first line cannot import it),
// package.json's `npm start`, the Dockerfile for the image; the launcher hands this constant to
// the Node it hands over to. test/cli/launcher.test.ts checks that they agree. `node
// bin/botcriptofy.js` alone runs without them. glibc older than 2.35 ignores hugetlb, other C
// libraries ignore both.
//
// hugetlb=1: malloc asks the kernel for transparent huge pages (2 MiB) for its large blocks, where
// Node keeps big buffers such as a candle file's columns. On virtual machines that fault memory
// 4 KiB at a time slowly (3–5 µs a page on the benchmark machine, and a page the kernel filled
// faulted again at the program's first read of it), the first write to 79 MB of fresh columns
// took ~250 ms in 4 KiB pages and ~25 ms in 2 MiB ones.
//
// arena_max=1: every thread allocates from the main arena. Without it V8's optimizing compiler
// thread gets an arena of its own, fresh, whose 2 MiB pages it faults while it compiles: the
// backtest's bar loop took 13–25 ms to compile instead of 5–7 ms, while the bars ran in V8's
// slower tiers. One cold backtest of 1.3 M candles (bench/engine-cold.ts, 21 interleaved
// processes each): 47.9 ms median with hugetlb alone, 34.8 ms with both (BENCHMARKS.md,
// 2026-12-03). `start` on the demo company after 10 minutes, side by side: 314 MB resident with
// both, 295 MB with hugetlb alone (identical processes differ by up to 30 MB).
export const MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1';
