"""Take the documentation screenshots (docs/screenshots/*.png) with the same Chromium setup as the tests.

Run against a running product (``make run``, or any services app URL)::

    PYTHONPATH=. .venv/services/bin/python -m tests.web.screenshots --base http://127.0.0.1:8000

It holds a short real conversation with the bot (greeting and an order status), so the pictures show
the product as customers see it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.web.browser import DESKTOP, PHONE, Widget, launch_browser, wait_for_bot_text

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="URL of the services app")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG files")
    parser.add_argument("--article", default="/help/pt/rastrear-pedido", help="help-center article to capture")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with launch_browser() as browser:
        ctx = browser.new_context(viewport=DESKTOP, locale="pt-BR", device_scale_factor=1)
        page = ctx.new_page()
        page.goto(args.base + "/")
        widget = Widget(page).open()
        widget.send("oi")
        widget.wait_for_reply(0)
        widget.send("qual o status do meu pedido 20481234?")
        wait_for_bot_text(page, r"20481234")
        page.wait_for_timeout(600)
        page.screenshot(path=str(args.out / "site-chat-open.png"))
        widget.launcher.click()
        page.goto(args.base + args.article)
        page.wait_for_timeout(400)
        page.screenshot(path=str(args.out / "help-article.png"))
        ctx.close()

        phone = browser.new_context(viewport=PHONE, locale="pt-BR", is_mobile=True, has_touch=True,
                                    device_scale_factor=2)
        page = phone.new_page()
        page.goto(args.base + "/help/pt")
        page.screenshot(path=str(args.out / "help-home-phone.png"))
        widget = Widget(page).open()
        widget.send("oi, meu lumo buds nao conecta no celular")
        widget.wait_for_reply(0)
        page.wait_for_timeout(600)
        page.screenshot(path=str(args.out / "chat-phone.png"))
        phone.close()
    for path in sorted(args.out.glob("*.png")):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
