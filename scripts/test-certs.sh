#!/usr/bin/env bash
# Test certificates, minted per run (never committed): a CA, a server
# certificate for localhost/127.0.0.1, one client certificate per name (CN =
# the name: node ids and callers), and a rogue CA with its own client
# certificate for the first name. P-256, 30 days (clients: DAYS, default 30).
#   scripts/test-certs.sh DIR NAME...        (openssl from Debian's openssl package)
# Files: DIR/ca.crt, DIR/server.{crt,key}, DIR/NAME.{crt,key}, DIR/rogue-ca.crt,
# DIR/rogue-NAME1.{crt,key}. Readable by all (the brokers run as their own users).
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is needed: apt-get install openssl" >&2; exit 1; }
D=$1; shift
DAYS=${DAYS:-30}
mkdir -p "$D"; cd "$D"
ca() { # ca NAME CN
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.crt" -days 30 \
    -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # leaf CA FILE SUBJECT EXT DAYS
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$2.key" -subj "$3" -out "$2.csr" 2>/dev/null
  printf "$4" >"$2.ext"
  openssl x509 -req -in "$2.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial -days "$5" -extfile "$2.ext" -out "$2.crt" 2>/dev/null
  rm -f "$2.csr" "$2.ext"
}
CLIENT="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
[[ -f ca.crt ]] || ca ca virtbus-test-ca
[[ -f server.crt ]] || leaf ca server /CN=localhost \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n" 30
for n in "$@"; do leaf ca "$n" "/CN=$n" "$CLIENT" "$DAYS"; done
[[ -f rogue-ca.crt ]] || ca rogue-ca virtbus-rogue-ca
leaf rogue-ca "rogue-$1" "/CN=$1" "$CLIENT" 30
chmod 755 "$D"; chmod 644 "$D"/*.crt "$D"/*.key
