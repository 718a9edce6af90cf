import { deleteNetns, listRunNamespaces } from './netns.ts';

// Removes anything this run's tests left behind (a crashed worker skips its own afterAll).
export default function setup(): () => Promise<void> {
  return async () => {
    for (const name of await listRunNamespaces()) await deleteNetns(name);
  };
}
