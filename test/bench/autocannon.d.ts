// autocannon ships no types; this covers the part the benchmark uses.
declare module "autocannon" {
  type Options = {
    url: string;
    connections?: number;
    duration?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: Array<{ setupRequest?: (req: any) => any }>;
  };
  type Result = {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number; average: number };
    non2xx: number;
    errors: number;
  };
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
