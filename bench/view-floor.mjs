// The floor under `cursor.next()`: a loop that makes what next() returns per step (a key view
// of 8 bytes and a value view of 100 bytes over one ArrayBuffer, in a tuple) and nothing else:
// no page decoding, no cursor. Five passes of 1M steps in one process, ns per step (the first
// pass includes V8's warm-up). bench/RESULTS-notes.md compares it with Go's whole Next().
//
//   node bench/view-floor.mjs
const STEPS = 1_000_000;
const ab = new ArrayBuffer(STEPS * 124);

function pass() {
  let sum = 0;
  for (let i = 0, off = 0; i < STEPS; i++, off += 124) {
    const entry = [new Uint8Array(ab, off, 8), new Uint8Array(ab, off + 8, 100)];
    sum += entry[0].length + entry[1].length;
  }
  return sum;
}

const out = [];
for (let p = 0; p < 5; p++) {
  const t = process.hrtime.bigint();
  if (pass() !== STEPS * 108) throw new Error('wrong sum');
  out.push((Number(process.hrtime.bigint() - t) / STEPS).toFixed(1));
}
console.log(`two views and a tuple per step, ns/step by pass: ${out.join(', ')}`);
