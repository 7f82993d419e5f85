import type { Adoption } from '../application/organizations.js';

/** The chart's drawing area, in SVG user units; the SVG scales to the page's width. */
const WIDTH = 320;
const HEIGHT = 120;
const PAD = { left: 34, right: 8, top: 8, bottom: 20 };
const DAY_MS = 24 * 60 * 60 * 1000;

export interface AdoptionChart {
  readonly width: number;
  readonly height: number;
  /** The polyline of the share with a second factor, one point per day with figures. */
  readonly points: string;
  /** Where the deadline falls on the time axis; null when it is outside the days shown. */
  readonly deadlineX: number | null;
  readonly plot: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
  readonly firstDay: string;
  readonly lastDay: string;
  /** The text equivalent: one row per day. */
  readonly rows: readonly { readonly day: string; readonly enrolled: number; readonly members: number; readonly percent: number }[];
}

const percentOf = (enrolled: number, members: number) => (members === 0 ? 0 : Math.round((enrolled / members) * 100));

/**
 * Lays out the adoption chart for a server-rendered SVG (no script): the share of members with a
 * second factor per day since enforcement started, and the deadline as a vertical line. Null when
 * there is nothing to draw yet.
 */
export function adoptionChart(adoption: Adoption): AdoptionChart | null {
  if (adoption.days.length === 0) return null;
  const first = Date.parse(`${adoption.days[0]!.day}T00:00:00Z`);
  const last = Date.parse(`${adoption.days[adoption.days.length - 1]!.day}T00:00:00Z`);
  const end = Math.max(last, adoption.deadline ? adoption.deadline.getTime() : last, first + DAY_MS);
  const plot = { left: PAD.left, right: WIDTH - PAD.right, top: PAD.top, bottom: HEIGHT - PAD.bottom };
  const x = (time: number) => plot.left + ((time - first) / (end - first)) * (plot.right - plot.left);
  const y = (percent: number) => plot.bottom - (percent / 100) * (plot.bottom - plot.top);
  const rows = adoption.days.map((day) => ({ day: day.day, enrolled: day.enrolled, members: day.members, percent: percentOf(day.enrolled, day.members) }));
  const points = rows.map((row) => `${x(Date.parse(`${row.day}T00:00:00Z`)).toFixed(1)},${y(row.percent).toFixed(1)}`).join(' ');
  return {
    width: WIDTH,
    height: HEIGHT,
    points,
    deadlineX: adoption.deadline ? Number(x(adoption.deadline.getTime()).toFixed(1)) : null,
    plot,
    firstDay: rows[0]!.day,
    lastDay: new Date(end).toISOString().slice(0, 10),
    rows,
  };
}
