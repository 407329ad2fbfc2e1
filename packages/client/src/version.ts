/** The version of akamu-client, sent in the User-Agent. Kept in step with package.json by a unit test. */
export const CLIENT_VERSION = '0.1.0';
