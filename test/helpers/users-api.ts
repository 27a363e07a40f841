// The users API of a running mm-backend, called as a client calls it.

export type CreatedUser = { readonly id: string; readonly eventId: string };

/** POST /api/users: the new user's id and the id of the event written with it (the mm-event-id header). */
export const postUser = async (backendUrl: string, body: Record<string, unknown>): Promise<CreatedUser> => {
  const response = await fetch(`${backendUrl}/api/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`POST /api/users: ${response.status} ${await response.text()}`);
  const user = (await response.json()) as { id: string };
  return { id: user.id, eventId: response.headers.get('mm-event-id') ?? '' };
};
