import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { OrchestratorClient } from '../../../client/index.ts';
import { hasRole, type Session } from './session.ts';
import type { Role } from './types.ts';

export interface ConsoleContext {
  readonly session: Session;
  readonly signOut: () => void;
}

export const SessionContext = createContext<ConsoleContext | undefined>(undefined);

function useConsole(): ConsoleContext {
  const value = useContext(SessionContext);
  if (!value) throw new Error('the console context is missing: render pages inside <SessionContext.Provider>');
  return value;
}

export const useClient = (): OrchestratorClient => useConsole().session.client;
export const useSession = (): ConsoleContext => useConsole();

/** Whether the caller may do what needs `role`; buttons the server would refuse are not offered. */
export function useCan(role: Role): boolean {
  return hasRole(useConsole().session.whoami, role);
}
