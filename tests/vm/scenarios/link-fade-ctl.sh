# link-fade-ctl: the link-fade scenario with the fade driven from the host by
# `vhost-hwsim ctl link ap 6ghz --attenuation …` steps instead of a medium-config timeline.
# shellcheck source=/dev/null
. "$SCENARIOS/link-fade.sh"
LINK_FADE_DRIVER=ctl
