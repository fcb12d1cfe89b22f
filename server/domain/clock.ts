/**
 * The one source of "now" for domain rules, so tests can move time without sleeping.
 * Production uses the wall clock; tests call setClock / pass a fixed Date.
 */
export type Clock = () => Date;

const holder = globalThis as unknown as { __keysteadClock?: Clock };

export function now(): Date {
  return (holder.__keysteadClock ?? (() => new Date()))();
}

export function setClock(clock: Clock | undefined) {
  holder.__keysteadClock = clock;
}

export const DAY_MS = 86_400_000;
export const addDays = (d: Date, days: number) => new Date(d.getTime() + days * DAY_MS);
