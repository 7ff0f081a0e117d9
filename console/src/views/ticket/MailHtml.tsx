// A client's mail as it was sent. Its HTML (sanitised when it arrived) is shown in a sandboxed
// frame: no script runs there and it shares no origin with the console. Its own inline images
// load by short-lived links from the mail bucket; nothing else loads. A remote image would tell
// the sender when, and from where, the mail was read, so it is left out (its alt text stays).
//
// The console's policy, which a srcdoc document inherits, admits no inline style: the mail shows
// without its CSS, with its structure, links, images and presentational attributes (colours,
// widths, alignment) that need none.

import { useEffect, useState } from "preact/hooks";
import type { Message } from "../../api/client";
import { Loading } from "../../ui/components";
import { fileLink } from "./ticketApi";

const CID = /^cid:(.+)$/i;
// Links open in a tab of their own, as an unrelated page that cannot reach the console.
const SANDBOX = "allow-popups allow-popups-to-escape-sandbox";

/** A Content-ID as the message's files name it, from a `cid:` reference (percent-encoded, RFC 2392). */
function referencedId(source: string | null): string | null {
  const reference = CID.exec(source?.trim() ?? "")?.[1];
  if (reference === undefined) return null;
  try {
    return decodeURIComponent(reference).toLowerCase();
  } catch {
    return reference.toLowerCase();
  }
}

/** A link to each inline image the mail shows, by Content-ID; one that cannot be had is left out. */
async function inlineImageLinks(message: Message, mail: Document): Promise<Map<string, string>> {
  const shown = new Set(Array.from(mail.images, (image) => referencedId(image.getAttribute("src"))));
  const files = message.attachments.flatMap((file) => {
    const id = file.content_id?.toLowerCase();
    return id && shown.has(id) ? [{ id, file }] : [];
  });
  const links = await Promise.all(
    files.map(async ({ id, file }) => {
      try {
        return [id, (await fileLink(message.ticket_id, file.id)).url] as const;
      } catch {
        return null;
      }
    }),
  );
  return new Map(links.filter((link) => link !== null));
}

/** The frame's whole document: the mail with its images' links, under a policy of its own. */
async function mailDocument(message: Message, html: string): Promise<string> {
  // A parsed document has no window: nothing in it loads or runs while it is rewritten.
  const mail = new DOMParser().parseFromString(html, "text/html");
  const links = await inlineImageLinks(message, mail);
  const origins = new Set<string>();
  for (const image of Array.from(mail.images)) {
    const link = links.get(referencedId(image.getAttribute("src")) ?? "");
    if (link) {
      image.setAttribute("src", link);
      image.removeAttribute("srcset");
      origins.add(new URL(link).origin);
    } else {
      image.replaceWith(image.alt ? `[${image.alt}]` : "");
    }
  }
  // Both policies refuse inline styles, one error in the browser's console each: dropped here.
  for (const styled of Array.from(mail.querySelectorAll("[style]"))) styled.removeAttribute("style");
  for (const anchor of Array.from(mail.querySelectorAll("a[href]"))) {
    anchor.setAttribute("target", "_blank");
    anchor.setAttribute("rel", "noopener noreferrer");
  }
  const policy = mail.createElement("meta");
  policy.httpEquiv = "Content-Security-Policy";
  policy.content = `default-src 'none'; img-src ${[...origins].join(" ") || "'none'"}`;
  const referrer = mail.createElement("meta");
  referrer.name = "referrer";
  referrer.content = "no-referrer";
  mail.head.prepend(policy, referrer);
  return `<!doctype html>${mail.documentElement.outerHTML}`;
}

/** The mail in its frame, once its images' links are in. The frame's size cannot be read from a
 * document of another origin: it has a fixed height, scrolls, and can be made taller. */
export function MailHtml({ message, html, title }: { message: Message; html: string; title: string }) {
  const [document, setDocument] = useState<string | null>(null);
  useEffect(() => {
    let shown = true;
    void mailDocument(message, html).then((built) => shown && setDocument(built));
    return () => {
      shown = false;
    };
  }, [message.id, html]);
  if (document === null) return <Loading what="Loading the formatted mail" />;
  return <iframe class="mail-html" title={title} sandbox={SANDBOX} srcdoc={document} />;
}
