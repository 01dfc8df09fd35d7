#!/bin/bash
# /start.sh of the local base image that build-base.sh makes: it starts a
# container the way RunPod's base images do (runpod/containers,
# container-template/start.sh), so that the agent image boots here as it
# boots in a pod. What the images rely on, in order:
#   1. /pre_start.sh runs, with bash, before anything else of the pod's;
#   2. /post_start.sh runs, with bash, once the pod's own services are up;
#   3. then the script stays in `sleep infinity`, keeping the container up.
# The hooks block the script and, under `set -e`, a hook that fails ends
# the container. RunPod's script also starts nginx, sshd (with $PUBLIC_KEY)
# and Jupyter (with $JUPYTER_PASSWORD); this base has none of them.
set -e

execute_script() {
    local script_path=$1
    local script_msg=$2
    if [[ -f ${script_path} ]]; then
        echo "${script_msg}"
        bash "${script_path}"
    fi
}

execute_script "/pre_start.sh" "Running pre-start script..."

echo "Pod Started"

# As RunPod's: the pod's RUNPOD_* variables for login shells.
echo "Exporting environment variables..."
printenv | grep -E '^RUNPOD_|^PATH=|^_=' | awk -F = '{ print "export " $1 "=\"" $2 "\"" }' >> /etc/rp_environment
echo 'source /etc/rp_environment' >> ~/.bashrc

execute_script "/post_start.sh" "Running post-start script..."

echo "Start script(s) finished, Pod is ready to use."

sleep infinity
