// json-logic-js ships no types; this is the part the benchmark uses.
declare module 'json-logic-js' {
  const jsonLogic: {
    apply(rule: unknown, data?: unknown): unknown;
    truthy(value: unknown): boolean;
  };
  export default jsonLogic;
}
