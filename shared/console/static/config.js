// Where the console finds the API and how it signs in. The dev server serves this file as it
// is; in AWS the console function serves one computed from its environment (shared/consolefn).
//   apiBase: the API's base URL without a trailing slash; '' when the console is served by
//            the same origin as the API.
//   signIn:  'dev'   - email sign-in through the dev server's POST /dev/token (local only);
//            'token' - paste an ID token issued by the identity provider (Cognito);
//            'cognito' - the Cognito hosted UI (authorization code with PKCE); needs
//            cognitoDomain (https://<prefix>.auth.<region>.amazoncognito.com) and clientId.
'use strict';
window.TILGANG_CONSOLE = { apiBase: '', signIn: 'dev' };
