// `qrcode` as the test environment loaded it outside the vm context (see test/support/environment.js).
module.exports = globalThis.twofoldNativeQrcode;
