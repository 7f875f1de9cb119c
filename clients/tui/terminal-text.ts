/**
 * Text from the network made safe to print on a terminal. Ink strips cursor movement but passes
 * SGR (colours) and OSC sequences through on purpose, so a message could otherwise set the
 * clipboard (OSC 52), the window title (OSC 0/2), hide a hyperlink (OSC 8), recolour the screen,
 * or move the cursor back over other lines with CR, BS or a C1 control.
 *
 * Every control character is replaced by one visible character, keeping the length in code
 * points (the layout estimates rows from it): C0 controls become their Unicode control picture
 * (ESC shows as ␛, BEL as ␇), DEL becomes ␡, C1 controls (U+0080..U+009F, which some terminals
 * act on) become U+FFFD. Line feed is kept: messages may have several lines.
 */
export function terminalText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, picture);
}

function picture(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return "\u2421";
  return "\ufffd";
}
