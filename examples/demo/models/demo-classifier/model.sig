{
  "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "verificationMaterial": {
    "publicKey": {
      "hint": "86c43da86019ec21595208806d5f6fe8a93b879fd19358eefec57e96db4036d8"
    },
    "tlogEntries": []
  },
  "dsseEnvelope": {
    "payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJuYW1lIjoiZGVtby1jbGFzc2lmaWVyIiwiZGlnZXN0Ijp7InNoYTI1NiI6IjFhMTc5MThiOWZiYWM3ZGM4MmM5NTI0ODdmZDlmNWM3Zjk2YmZjNmM2ZTQ0ZDU4Mzc3ZTY2Y2E0MzRiZGRhYmQifX1dLCJwcmVkaWNhdGVUeXBlIjoiaHR0cHM6Ly9tb2RlbF9zaWduaW5nL3NpZ25hdHVyZS92MS4wIiwicHJlZGljYXRlIjp7InNlcmlhbGl6YXRpb24iOnsibWV0aG9kIjoiZmlsZXMiLCJoYXNoX3R5cGUiOiJzaGEyNTYiLCJhbGxvd19zeW1saW5rcyI6ZmFsc2UsImlnbm9yZV9wYXRocyI6WyJtb2RlbC5zaWciLCIuZ2l0IiwiLmdpdGF0dHJpYnV0ZXMiLCIuZ2l0aHViIiwiLmdpdGlnbm9yZSJdfSwicmVzb3VyY2VzIjpbeyJuYW1lIjoiUkVBRE1FLm1kIiwiYWxnb3JpdGhtIjoic2hhMjU2IiwiZGlnZXN0IjoiNWQ5ZmVhNTkwYjliYTJiODNlYjM3ZmQ5NDBhNzYyZDY5OGY2YzJmOGNjMTUwN2ZiZWE2ZTNmMzcwMmYxNzIwNyJ9LHsibmFtZSI6ImNvbmZpZy5qc29uIiwiYWxnb3JpdGhtIjoic2hhMjU2IiwiZGlnZXN0IjoiZDYxYmRkY2U1NzgzNDg5MDkwMWExZjg5ZjIzZTc0YTVhZDdlNzQzOGRhMDY1Y2Y4YzE0YjNiOTI0ZTgxMjUwMSJ9LHsibmFtZSI6ImxhYmVscy50eHQiLCJhbGdvcml0aG0iOiJzaGEyNTYiLCJkaWdlc3QiOiJhMTRmMzMyYjMwNzZiZjZiMWUxMmY3M2FhZWEyY2VjN2VhNzhiYjIwOGU0MzU3YjA0ZjMwYzZjZGNlYmFlZjlkIn1dfX0=",
    "payloadType": "application/vnd.in-toto+json",
    "signatures": [
      {
        "sig": "MEYCIQCMxOYvCvKvJdYvxi4Sv8mfxgEsq+vf/+RwzgpSOFQAuQIhANE6oiV7rBZUQzMh63Yql64XGYzQ1x2qBjaiykcYRYkB"
      }
    ]
  }
}
