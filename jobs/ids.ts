/** BullMQ refuses ':' in custom job ids; both runners map ids the same way. */
export function safeJobId(id: string): string {
  return id.replaceAll(':', '-');
}
