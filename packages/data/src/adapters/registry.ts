/** Every adapter with what it knows about its dataset, by key; finding a layout's marker files in a folder. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetKey } from '../types.js';
import { agiqa3k, agiqa3kInfo } from './agiqa3k.js';
import type { Adapter, AdapterInfo, LayoutInfo } from './common.js';
import { csiq, csiqInfo } from './csiq.js';
import { csv, csvInfo } from './csv.js';
import { kadid10k, kadid10kInfo } from './kadid10k.js';
import { koniq10k, koniq10kInfo } from './koniq10k.js';
import { live, liveInfo } from './live.js';
import { livec, livecInfo } from './livec.js';
import { pyiqaLayout } from './pyiqa.js';
import { spaq, spaqInfo } from './spaq.js';
import { tid2013, tid2013Info } from './tid2013.js';

export const ADAPTERS: Record<DatasetKey, { load: Adapter; info: AdapterInfo }> = {
  koniq10k: { load: koniq10k, info: koniq10kInfo },
  spaq: { load: spaq, info: spaqInfo },
  kadid10k: { load: kadid10k, info: kadid10kInfo },
  agiqa3k: { load: agiqa3k, info: agiqa3kInfo },
  livec: { load: livec, info: livecInfo },
  live: { load: live, info: liveInfo },
  csiq: { load: csiq, info: csiqInfo },
  tid2013: { load: tid2013, info: tid2013Info },
  csv: { load: csv, info: csvInfo },
};

/** Every layout of a key, its own first, then pyiqa's. */
export function layoutsOf(key: DatasetKey): LayoutInfo[] {
  const { info } = ADAPTERS[key];
  return [...info.layouts, ...(info.pyiqa ? [pyiqaLayout(info.pyiqa)] : [])];
}

async function present(root: string, marker: string): Promise<boolean> {
  try {
    const st = await fs.stat(path.join(root, marker));
    return marker.endsWith('/') ? st.isDirectory() : st.isFile();
  } catch {
    return false;
  }
}

/** The first marker set of a layout that is complete under `root`, or null (nothing is read, only looked up). */
export async function findMarkers(root: string, layout: LayoutInfo): Promise<string[] | null> {
  for (const set of layout.markers) {
    let all = set.length > 0;
    for (const m of set) if (all && !(await present(root, m))) all = false;
    if (all) return [...set];
  }
  return null;
}
