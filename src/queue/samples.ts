/** The last `size` numeric samples (a ring buffer), for percentiles over recent activity. */
export class SampleWindow {
  private readonly buf: number[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  add(v: number): void {
    if (this.buf.length < this.size) this.buf.push(v);
    else this.buf[this.next] = v;
    this.next = (this.next + 1) % this.size;
  }

  values(): number[] {
    return [...this.buf];
  }
}
