/** True on phone-sized screens (the layout's single-column breakpoint), where the keyboard should not pop up unasked. */
export function narrowScreen(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(max-width: 900px)').matches;
}
