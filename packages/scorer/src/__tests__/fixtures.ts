import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The scorer's test fixtures: a micro SMART-IQA checkpoint (torch.save .pkl), images, and the PyTorch goldens. */
export const fixtures = join(import.meta.dirname, '..', '..', 'fixtures');
export const checkpoint = join(fixtures, 'micro-attention.pkl');
export const jpg = join(fixtures, 'q90.jpg');
export const png = join(fixtures, 'rgb.png');
export const corrupt = join(fixtures, 'corrupt-dqt.jpg');

/** PyTorch reference (tools/scorer/make_golden.py): whole-image scores through PIL resize, crops and the model. */
export interface Golden {
  images: Record<
    string,
    Record<
      'center' | 'grid',
      { origins: [number, number][]; cropScores: number[]; score: number; attention: number[][] }
    >
  >;
}
export const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as Golden;
