import sharp from 'sharp';

/**
 * Rasterises one of the report's SVGs to PNG (librsvg through sharp) at `scale` × its size. The figures reference no
 * external files, so nothing is fetched; text uses the system's sans-serif font (DejaVu Sans where installed).
 */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale, limitInputPixels: 64_000_000 })
    .png({ compressionLevel: 9 })
    .toBuffer();
}
