// The sign-in page, the only page shown to someone not signed in.
export const SignInPage = (props: { csrf: string; error?: string; name?: string }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Sign in · mm console</title>
      <link rel="stylesheet" href="/assets/console.css" />
    </head>
    <body>
      <form class="signin" method="post" action="/sign-in">
        <h1>mm console</h1>
        {props.error ? <p class="notice error">{props.error}</p> : null}
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label>
          Name
          <input name="name" autocomplete="username" value={props.name ?? ''} required />
        </label>
        <label>
          Token
          <input name="token" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit">Sign in</button>
        <p class="small muted">Or open the URL with ?token= that the console printed when it started.</p>
      </form>
    </body>
  </html>
);
