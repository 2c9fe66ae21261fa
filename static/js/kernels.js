// Reshaping kernels when the user changes their size or the input's channel count.
// Pure bookkeeping on the user's own numbers; no maths of the operation here.

// Resize a 2-D kernel to kh x kw around its centre: cropped, or padded with zeros.
export function resizeKernel(k, kh, kw) {
  const dr = Math.floor((kh - k.length) / 2);
  const dc = Math.floor((kw - k[0].length) / 2);
  return Array.from({ length: kh }, (_, r) =>
    Array.from({ length: kw }, (_, c) => {
      const sr = r - dr,
        sc = c - dc;
      return sr >= 0 && sr < k.length && sc >= 0 && sc < k[0].length ? k[sr][sc] : 0;
    }),
  );
}

// One filter's kernels for n input channels: the first kernel repeated, or the first only.
export function withChannels(kernels, n) {
  return Array.from({ length: n }, (_, ch) => (kernels[ch] || kernels[0]).map((row) => [...row]));
}
