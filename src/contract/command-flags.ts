// What the agent needs to know of a command besides its schemas: the flags
// of its declaration (command-spec.ts), read at run time from the generated
// catalogue (catalogue.ts).

export interface CommandFlags {
  /** changes libvirt state: refused with FORBIDDEN in read-only mode */
  mutating: boolean;
  /** the contract lists it but this agent does not implement it yet (UNSUPPORTED) */
  planned: boolean;
  /**
   * a long-running command, answered once at the end while job events report
   * its course: always, or only for some data (vol.create preallocating 1 GiB
   * or more); absent: an ordinary command
   */
  job?: 'always' | 'sometimes';
}
