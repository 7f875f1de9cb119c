import { displayNameKeys, EncodedEvent, ErrorCode } from "../protocol/index.js";
import type { ChatContext } from "./chat-context.js";
import { ChatError } from "./errors.js";
import type { Session } from "./session.js";

/**
 * Display names: unique among connected users, case-insensitively and across lookalike scripts
 * (UserRegistry, protocol/display-name.ts), and on a cluster node across every node: the name's
 * keys are claimed in the Directory before the rename takes effect.
 */
export class NameService {
  constructor(private readonly ctx: ChatContext) {}

  /** Renames; throws NAME_INVALID or NAME_TAKEN (a cluster node answers later: a promise). */
  rename(session: Session, wanted: string): Promise<void> | void {
    const { users, presence } = this.ctx;
    const old = session.name;
    // the registry normalises (NFKC): "Ａｌｉｃｅ" when already "Alice" changes nothing
    const name = users.rename(session.userId, old, wanted);
    if (name === old) return;
    if (presence === undefined) return this.apply(session, old, name);
    const directory = presence.directory;
    return directory.claimName(displayNameKeys(name), session.userId).then(
      (ok) => {
        if (!ok) {
          users.rename(session.userId, name, old);
          throw new ChatError(ErrorCode.NAME_TAKEN, `the name "${name}" is taken`);
        }
        directory.releaseName(displayNameKeys(old), session.userId).catch(() => {});
        if (session.closed) {
          directory.releaseName(displayNameKeys(name), session.userId).catch(() => {});
          return;
        }
        this.apply(session, old, name);
      },
      (err: unknown) => {
        users.rename(session.userId, name, old);
        throw new ChatError(
          ErrorCode.CLUSTER_UNAVAILABLE,
          `the name could not be checked across the cluster (${String(err)}): try again`,
        );
      },
    );
  }

  private apply(session: Session, old: string, name: string): void {
    session.name = name;
    const renamed = new EncodedEvent({ _et: "user_renamed", u: session.userId, n: name, o: old });
    this.ctx.membership.publishToPeers(session, renamed);
    for (const room of this.ctx.membership.roomsOf(session)) {
      this.ctx.cluster?.publishRoomEvent(room.name, "n", renamed.json);
    }
  }

  /** The session ended: its name is free again (across the cluster too). */
  release(session: Session): void {
    this.ctx.users.release(session.userId, session.name);
    this.ctx.presence?.directory
      .releaseName(displayNameKeys(session.name), session.userId)
      .catch(() => {});
  }
}
