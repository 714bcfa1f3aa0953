/**
 * Colours: a colour-blind-safe categorical palette (Okabe–Ito) and the viridis sequential map for heat
 * maps, with the text colour that stays readable on a given fill.
 *
 * @module
 */

/** Okabe–Ito, reordered so that the first colours differ most; yellow (weak on white) comes last. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'] as const;

/** Colour of series `i` (cycles). */
export function seriesColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

// viridis sampled at 9 evenly spaced points (matplotlib), interpolated linearly in sRGB
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function hex2(v: number): string {
  return Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0');
}

/** viridis at `t` ∈ [0, 1] (clamped) as `#rrggbb`. */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return `#${hex2(a[0] + f * (b[0] - a[0]))}${hex2(a[1] + f * (b[1] - a[1]))}${hex2(a[2] + f * (b[2] - a[2]))}`;
}

/** The viridis stops as Plotly colorscale pairs `[t, colour]`. */
export function viridisStops(n = 9): [number, string][] {
  return Array.from({ length: n }, (_, i) => [Number((i / (n - 1)).toFixed(4)), viridis(i / (n - 1))]);
}

/** Relative luminance (WCAG) of `#rrggbb`. */
export function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/** Black or white, whichever contrasts more with `fill`. */
export function textOn(fill: string): string {
  return luminance(fill) > 0.179 ? '#111111' : '#ffffff';
}
