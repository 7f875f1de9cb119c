/** What a line typed in the input box asks for. `//text` sends a message starting with "/". */
export type InputAction =
  | { kind: "message"; text: string }
  | { kind: "join"; room: string }
  | { kind: "leave"; room?: string }
  | { kind: "nick"; name: string }
  | { kind: "quit" }
  | { kind: "help" }
  | { kind: "invalid"; message: string }
  | { kind: "nothing" };

export const COMMAND_HELP: readonly string[] = [
  "/join <room>   join a room and make it active",
  "/leave [room]  leave the active (or named) room",
  "/nick <name>   change your display name",
  "/quit          leave the chat and exit",
  "/help          show this list",
  "//text         send a message that starts with /",
];

export function parseInput(raw: string): InputAction {
  const line = raw.trim();
  if (line.length === 0) return { kind: "nothing" };
  if (!line.startsWith("/")) return { kind: "message", text: raw.trimEnd() };
  if (line.startsWith("//")) return { kind: "message", text: raw.trimEnd().slice(1) };
  const [head = "", ...rest] = line.slice(1).split(/\s+/);
  const arg = rest.join(" ").trim();
  const room = arg.replace(/^#/, "");
  switch (head.toLowerCase()) {
    case "join":
    case "j":
      return room ? { kind: "join", room } : { kind: "invalid", message: "usage: /join <room>" };
    case "leave":
    case "part":
      return room ? { kind: "leave", room } : { kind: "leave" };
    case "nick":
    case "name":
      return arg
        ? { kind: "nick", name: arg }
        : { kind: "invalid", message: "usage: /nick <name>" };
    case "quit":
    case "exit":
    case "q":
      return { kind: "quit" };
    case "help":
    case "?":
      return { kind: "help" };
    default:
      return { kind: "invalid", message: `unknown command /${head}: try /help` };
  }
}
