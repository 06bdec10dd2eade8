#!/bin/sh
# Entrypoint of the varpulis image.
#
# Secrets as files: for every VARPULIS_<NAME>_FILE variable (a Docker or swarm secret mounted under /run/secrets),
# VARPULIS_<NAME> is set to the file's content (without its trailing newline), so that keys and connection strings
# never sit in the service definition. Setting both VARPULIS_<NAME> and VARPULIS_<NAME>_FILE is an error.
#
# Then runs `varpulis ARGS` (the image's CMD is the production single-node server of the runbook, §1.1), or ARGS
# as given when they start with varpulis, pbm, sh, bash or an absolute path (`docker run IMAGE pbm cluster show`).
set -eu

for file_var in $(env | sed -n 's/^\(VARPULIS_[A-Z0-9_]*_FILE\)=.*/\1/p'); do
    var=${file_var%_FILE}
    eval "path=\${$file_var}"
    eval "already=\${$var+set}"
    if [ "$already" = set ]; then
        echo "error: both $var and $file_var are set: keep one" >&2
        exit 2
    fi
    if [ ! -r "$path" ]; then
        echo "error: $file_var names $path, which cannot be read" >&2
        exit 2
    fi
    value=$(cat "$path")
    export "$var=$value"
    unset "$file_var"
done

case "${1:-}" in
    varpulis | pbm | sh | bash | /*) exec "$@" ;;
esac
exec varpulis "$@"
