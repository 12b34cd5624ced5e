import type { EmulatorProcess } from './emulator-processes';

export default async function globalTeardown(): Promise<void> {
  const emulators: EmulatorProcess[] = (globalThis as any).__EMULATORS__ ?? [];
  await Promise.all(emulators.map((e) => e.stop()));
}
