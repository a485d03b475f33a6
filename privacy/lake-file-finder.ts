/** Finds the events files of the lake that hold an address, through the table's file path column. */
export interface LakeFileFinder {
  /** Keys (relative to the lake store, `events/dt=…/hour=…/<name>.parquet`) of the files holding the address. */
  find(address: string, tenant?: string): Promise<string[]>;
}
