import fs from 'node:fs/promises';
import path from 'node:path';

export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  /** Stable name under /dev/serial/by-id, when the kernel gives one. */
  byId?: string;
  description?: string;
}

export interface PortListing {
  /** Where the list came from: the serialport library, or the kernel's sysfs when that fails. */
  source: 'serialport' | 'sysfs';
  ports: PortInfo[];
  /** Why the first source was not used, if it was not. */
  fallbackReason?: string;
}

/**
 * Lists serial ports. serialport's list() works on Windows and macOS, but on Linux it runs
 * `udevadm`, which containers, WSL and minimal systems lack; then we read what the kernel shows.
 */
export async function listPorts(options: { sysRoot?: string; devRoot?: string; useLibrary?: boolean } = {}): Promise<PortListing> {
  let fallbackReason: string | undefined;
  if (options.useLibrary !== false) {
    try {
      const { SerialPort } = await import('serialport');
      const ports = await SerialPort.list();
      return {
        source: 'serialport',
        ports: ports.map((p) => ({ path: p.path, manufacturer: p.manufacturer, serialNumber: p.serialNumber, vendorId: p.vendorId, productId: p.productId })),
      };
    } catch (error) {
      fallbackReason = (error as Error).message;
      if (process.platform !== 'linux') throw error;
    }
  }
  return { source: 'sysfs', ports: await listFromSysfs(options.sysRoot ?? '/sys', options.devRoot ?? '/dev'), fallbackReason };
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Walks up from a tty's device to the USB device that carries idVendor/idProduct. */
async function usbFacts(deviceDir: string): Promise<Partial<PortInfo>> {
  let dir = deviceDir;
  for (let i = 0; i < 6; i++) {
    const vendorId = await readText(path.join(dir, 'idVendor'));
    if (vendorId) {
      return {
        vendorId,
        productId: await readText(path.join(dir, 'idProduct')),
        manufacturer: await readText(path.join(dir, 'manufacturer')),
        serialNumber: await readText(path.join(dir, 'serial')),
        description: await readText(path.join(dir, 'product')),
      };
    }
    dir = path.dirname(dir);
  }
  return {};
}

/**
 * A tty is a real port when it has a `device` link and a driver. The many ttyS* that every
 * PC kernel creates without a UART behind them report UART type 0 ("unknown"): skipped.
 */
async function listFromSysfs(sysRoot: string, devRoot: string): Promise<PortInfo[]> {
  const classDir = path.join(sysRoot, 'class', 'tty');
  const names = await fs.readdir(classDir).catch(() => [] as string[]);
  const byId = new Map<string, string>();
  const byIdDir = path.join(devRoot, 'serial', 'by-id');
  for (const link of await fs.readdir(byIdDir).catch(() => [] as string[])) {
    const target = await fs.readlink(path.join(byIdDir, link)).catch(() => undefined);
    if (target) byId.set(path.basename(target), path.join(byIdDir, link));
  }
  const ports: PortInfo[] = [];
  for (const name of names.sort()) {
    const ttyDir = path.join(classDir, name);
    const deviceDir = await fs.realpath(path.join(ttyDir, 'device')).catch(() => undefined);
    if (!deviceDir) continue; // virtual terminals, ptys
    const driver = await fs.readlink(path.join(ttyDir, 'device', 'driver')).catch(() => undefined);
    if (!driver) continue;
    if (/^ttyS\d+$/.test(name) && (await readText(path.join(ttyDir, 'type'))) === '0') continue;
    ports.push({ path: path.join(devRoot, name), byId: byId.get(name), ...(await usbFacts(deviceDir)) });
  }
  return ports;
}

/**
 * Pseudo-terminals (/dev/pts/N) of the current user: not serial ports, so `ports` leaves them out,
 * but the two ends of a `socat` pair used to rehearse with a simulator are ones. Other users'
 * terminals are skipped: they cannot be opened anyway.
 */
export async function listPseudoTerminals(devRoot = '/dev'): Promise<PortInfo[]> {
  const dir = path.join(devRoot, 'pts');
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(a) - Number(b));
  const uid = process.getuid?.();
  const found: PortInfo[] = [];
  for (const name of names) {
    const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (!stat || (uid !== undefined && stat.uid !== uid)) continue;
    found.push({ path: path.join(dir, name), description: 'pseudo-terminal' });
  }
  return found;
}
