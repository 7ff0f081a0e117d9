// Signing in to the user pool, with AWS's own Cognito library (SRP in AWS: the password never
// leaves the browser). Loaded only by the sign-in screen, so it is not part of the queue's load.

import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";
import type { UserPoolConfig } from "../config";

export type SignInStep =
  | { kind: "signed_in"; idToken: string }
  | { kind: "new_password"; complete: (password: string) => Promise<SignInStep> };

// Nothing of the pool's is kept by the library: the console keeps the ID token itself.
const noStorage = {
  getItem: () => null,
  setItem: () => undefined,
  removeItem: () => undefined,
  clear: () => undefined,
};

export function signInToPool(
  config: UserPoolConfig,
  email: string,
  password: string,
): Promise<SignInStep> {
  const pool = new CognitoUserPool({
    UserPoolId: config.pool_id,
    ClientId: config.client_id,
    Storage: noStorage,
    ...(config.endpoint ? { endpoint: new URL(config.endpoint, location.href).href } : {}),
  });
  const user = new CognitoUser({ Username: email, Pool: pool, Storage: noStorage });
  user.setAuthenticationFlowType(config.auth_flow);
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: (session: CognitoUserSession) =>
        resolve({ kind: "signed_in", idToken: session.getIdToken().getJwtToken() }),
      onFailure: (error: Error) => reject(error),
      // An invited agent signs in first with the password from the invitation, then picks one.
      newPasswordRequired: () =>
        resolve({
          kind: "new_password",
          complete: (newPassword: string) =>
            new Promise<SignInStep>((done, fail) =>
              user.completeNewPasswordChallenge(newPassword, {}, {
                onSuccess: (session) =>
                  done({ kind: "signed_in", idToken: session.getIdToken().getJwtToken() }),
                onFailure: fail,
              }),
            ),
        }),
    };
    user.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), callbacks);
  });
}
