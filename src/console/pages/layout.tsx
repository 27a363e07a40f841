// The frame of every signed-in page: navigation, who is signed in, the page's <main> (which the
// script refreshes when `refreshMs` is set), and the embedded assets.
import type { Child } from 'hono/jsx';

export type Viewer = { readonly user: string; readonly role: 'viewer' | 'operator'; readonly csrf: string };

const nav = [
  ['/', 'Overview'],
  ['/streams', 'Streams & groups'],
  ['/dead-letters', 'Dead letters'],
] as const;

export const CsrfField = ({ viewer }: { viewer: Viewer }) => (
  <input type="hidden" name="_csrf" value={viewer.csrf} />
);

export const Layout = (props: {
  title: string;
  viewer: Viewer;
  active: string;
  refreshMs?: number;
  children: Child;
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${props.title} · mm console`}</title>
      <link rel="stylesheet" href="/assets/console.css" />
      <script src="/assets/console.js" defer />
    </head>
    <body>
      <header>
        <strong>mm console</strong>
        {nav.map(([href, label]) => (
          <a href={href} class={props.active === href ? 'active' : ''}>
            {label}
          </a>
        ))}
        <span class="who">
          {props.viewer.user} ({props.viewer.role}){' '}
          <form method="post" action="/sign-out">
            <CsrfField viewer={props.viewer} />
            <button type="submit">Sign out</button>
          </form>
        </span>
      </header>
      <main data-refresh={props.refreshMs === undefined ? undefined : String(props.refreshMs)}>
        {props.children}
      </main>
    </body>
  </html>
);

export const Status = ({ status }: { status: string }) => <span class={`status ${status}`}>{status}</span>;

export const ago = (iso: string | number | null | undefined, nowMs: number): string => {
  if (iso === null || iso === undefined) return '-';
  const ms = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
};

export const seconds = (value: number | null): string => {
  if (value === null) return '-';
  if (value < 120) return `${value} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${Math.round(value / 3600)} h`;
};
