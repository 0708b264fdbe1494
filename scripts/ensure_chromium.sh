#!/bin/sh
# Make sure Debian's headless Chromium, ChromeDriver and a CJK font are installed (the report
# test opens report.html in them and checks that the paper's Chinese labels render as glyphs,
# not as empty boxes). Installs them with apt-get when missing and possible; says what to do
# otherwise. BAYES_RESIL_NO_BROWSER=1 skips this (the browser test then reports itself skipped).
[ "${BAYES_RESIL_NO_BROWSER:-0}" = "1" ] && exit 0
has_cjk_font() {
    command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]
}
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 \
        && has_cjk_font; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "Installing Debian chromium, chromium-driver and fonts-wqy-microhei (a CJK font) for" \
         "the report test (once)"
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium \
        chromium-driver fonts-wqy-microhei fontconfig) \
        >/tmp/bayes_resil_chromium_install.log 2>&1 || {
        echo "apt-get could not install chromium (log: /tmp/bayes_resil_chromium_install.log)" >&2
        exit 1
    }
    exit 0
fi
echo "Headless Chromium or a CJK font is missing: install the Debian packages 'chromium'," \
     "'chromium-driver' and 'fonts-wqy-microhei' (or set BAYES_RESIL_NO_BROWSER=1 to skip the" \
     "browser test)." >&2
exit 1
