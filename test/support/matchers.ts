import { expect } from '@jest/globals';

declare module 'expect' {
  interface AsymmetricMatchers {
    toStartWith(prefix: string): void;
    toBeWithinRange(floor: number, ceiling: number): void;
  }
  interface Matchers<R> {
    /** The received string begins with `prefix`: where a browser landed, a sealed value's header. */
    toStartWith(prefix: string): R;
    /** `floor <= received <= ceiling`: an HTTP status of a class, 400 to 499. */
    toBeWithinRange(floor: number, ceiling: number): R;
  }
}

expect.extend({
  toStartWith(received: unknown, prefix: string) {
    const pass = typeof received === 'string' && received.startsWith(prefix);
    return {
      pass,
      message: () => `${this.utils.matcherHint('toStartWith', undefined, 'prefix', { isNot: this.isNot })}\n\n`
        + `Expected${this.isNot ? ' not' : ''} to start with: ${this.utils.printExpected(prefix)}\nReceived: ${this.utils.printReceived(received)}`,
    };
  },
  toBeWithinRange(received: unknown, floor: number, ceiling: number) {
    const pass = typeof received === 'number' && received >= floor && received <= ceiling;
    return {
      pass,
      message: () => `${this.utils.matcherHint('toBeWithinRange', undefined, 'floor, ceiling', { isNot: this.isNot })}\n\n`
        + `Expected${this.isNot ? ' not' : ''} within: ${this.utils.printExpected(`${floor} to ${ceiling}`)}\nReceived: ${this.utils.printReceived(received)}`,
    };
  },
});
