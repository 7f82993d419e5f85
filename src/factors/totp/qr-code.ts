import QRCode from 'qrcode';

/** A PNG data: URL of the QR code (the page's CSP allows data: images, and nothing leaves the server). */
export function qrCodeDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 4, scale: 6 });
}
