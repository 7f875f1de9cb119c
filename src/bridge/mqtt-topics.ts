/**
 * The bridge's MQTT topics, under a prefix (default `parley`):
 *   PREFIX/rooms/ROOM/messages   room messages (`user_message` JSON), published
 *   PREFIX/rooms/ROOM/presence   joins and leaves (`room_participation` JSON), published
 *   PREFIX/rooms/ROOM/in         device messages into the room, subscribed (shared) when ingesting
 * ROOM is the room name with `%`, `/`, `+`, `#` and U+0000 percent-encoded (`/` would add a level,
 * `+` and `#` are wildcards that cannot appear in a published topic).
 */
export class MqttTopics {
  constructor(readonly prefix: string) {}

  messages(room: string): string {
    return `${this.prefix}/rooms/${encodeTopicLevel(room)}/messages`;
  }

  presence(room: string): string {
    return `${this.prefix}/rooms/${encodeTopicLevel(room)}/presence`;
  }

  /**
   * The ingest subscription: shared (`$share/GROUP/...`), so that each device message goes to one
   * subscriber of the group: one node of a cluster.
   */
  ingestFilter(group: string): string {
    return `$share/${group}/${this.prefix}/rooms/+/in`;
  }

  /** The room a device message was published to, or undefined for any other topic. */
  roomOfIngest(topic: string): string | undefined {
    const head = `${this.prefix}/rooms/`;
    if (!topic.startsWith(head) || !topic.endsWith("/in")) return undefined;
    const level = topic.slice(head.length, -"/in".length);
    if (level.includes("/")) return undefined;
    return decodeTopicLevel(level);
  }
}

const SPECIAL = /[%/+#\0]/g;

export function encodeTopicLevel(name: string): string {
  return name.replace(
    SPECIAL,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"),
  );
}

/** Undefined for a level that is not well encoded. */
export function decodeTopicLevel(level: string): string | undefined {
  try {
    return decodeURIComponent(level);
  } catch {
    return undefined;
  }
}

/** Whether `prefix` can start a topic: levels without wildcards, no leading or trailing `/`. */
export function validTopicPrefix(prefix: string): boolean {
  return (
    prefix.length > 0 &&
    prefix.length <= 200 &&
    !/[+#\0]/.test(prefix) &&
    !prefix.startsWith("/") &&
    !prefix.endsWith("/") &&
    !prefix.startsWith("$") &&
    !prefix.includes("//")
  );
}
