#!/usr/bin/env bash
# Flowfact Performer Exchange (production): app registration with the Azure CLI.
# Two apps: the product's own, then modauth's optional read-only monitoring app.
# Sign in first as an admin of the customer's tenant:
#   az login --tenant <tenant ID or domain> --allow-no-subscriptions
set -euo pipefail

rra=$(mktemp)
cat >"$rra" <<'JSON'
[
  {
    "resourceAppId": "00000003-0000-0000-c000-000000000000",
    "resourceAccess": [
      {
        "id": "652390e4-393a-48de-9484-05f9b1212954",
        "type": "Scope"
      },
      {
        "id": "d7b7f2d9-0f45-4ea1-9d42-e50810c06991",
        "type": "Scope"
      },
      {
        "id": "258f6531-6087-4cc4-bb90-092c5fb3ed3f",
        "type": "Scope"
      },
      {
        "id": "37f7f235-527c-4136-accd-4a02d197296e",
        "type": "Scope"
      },
      {
        "id": "14dad69e-099b-42c9-810b-d002981feec1",
        "type": "Scope"
      },
      {
        "id": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
        "type": "Scope"
      },
      {
        "id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
        "type": "Scope"
      }
    ]
  }
]
JSON

app_id=$(az ad app create \
  --display-name 'Flowfact Performer Exchange (production)' \
  --sign-in-audience AzureADMyOrg \
  --public-client-redirect-uris 'http://localhost' 'https://login.microsoftonline.com/common/oauth2/nativeclient' \
  --required-resource-accesses @"$rra" \
  --query appId -o tsv)
rm -f "$rra"
az ad sp create --id "$app_id" >/dev/null

# Grant admin consent (needs Global Administrator or Privileged Role Administrator).
az ad app permission admin-consent --id "$app_id"

# A client secret for one year; its value goes to a file only you can read.
umask 077
az ad app credential reset --id "$app_id" --append --display-name 'modauth production' --years 1 --query password -o tsv >modauth-secret.txt
echo "secret value written to $(pwd)/modauth-secret.txt: paste it into modauth, then delete the file" >&2

echo "tenant ID: $(az account show --query tenantId -o tsv)"
echo "client ID: $app_id"

# ---- Optional second app: Flowfact Performer Exchange (production) (modauth monitor) ----
# Least privilege: modauth reads the product app's secret and certificate expiry, its sign-in logs and users with this read-only app, so the product's own app never needs directory-wide read rights; the monitoring app can read, never write.
# Skip it with MONITOR=no.
if [ "${MONITOR:-yes}" = yes ]; then
mon_rra=$(mktemp)
cat >"$mon_rra" <<'JSON'
[
  {
    "resourceAppId": "00000003-0000-0000-c000-000000000000",
    "resourceAccess": [
      {
        "id": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        "type": "Role"
      },
      {
        "id": "b0afded3-3588-46d8-8b3d-9842eff778da",
        "type": "Role"
      },
      {
        "id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
        "type": "Role"
      },
      {
        "id": "df021288-bdef-4463-88db-98f22de89214",
        "type": "Role"
      }
    ]
  }
]
JSON
mon_id=$(az ad app create --display-name 'Flowfact Performer Exchange (production) (modauth monitor)' --sign-in-audience AzureADMyOrg \
  --required-resource-accesses @"$mon_rra" --query appId -o tsv)
rm -f "$mon_rra"
az ad sp create --id "$mon_id" >/dev/null
az ad app permission admin-consent --id "$mon_id"
umask 077
az ad app credential reset --id "$mon_id" --append --display-name 'modauth monitor' --years 1 --query password -o tsv >modauth-monitor-secret.txt
echo "monitoring app's secret written to $(pwd)/modauth-monitor-secret.txt: paste it into modauth, then delete the file" >&2
echo "monitoring app's client ID: $mon_id"
fi
