import { createRequire } from 'node:module';
import { TestEnvironment } from 'jest-environment-node';

const require = createRequire(import.meta.url);

/**
 * Jest's Node environment, with the QR code encoder (qrcode and its PNG encoder, pngjs) loaded in the
 * worker's own realm instead of the test's vm context. Their pixel loops look a global up (Math) for
 * every byte, and a global lookup inside a vm context is about 150 times slower than outside it (Node
 * 20 and 24 alike): rendered in the context, each setup page's QR code cost a second of CPU and the
 * suite twice its time. test/support/native-qrcode.cjs hands this instance to the code under test.
 */
export default class TwofoldEnvironment extends TestEnvironment {
  /** @param {ConstructorParameters<typeof TestEnvironment>} args */
  constructor(...args) {
    super(...args);
    this.global.twofoldNativeQrcode = require('qrcode');
  }
}
