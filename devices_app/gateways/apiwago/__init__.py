"""ApiWago (the self-hosted `tokalink/apigowa`): its API client, webhook parser and adapter."""
