from django.core.management import call_command


def test_dashboard_renders_its_chart(page, live_server, login, shot):
    call_command("loaddata", "demo", verbosity=0)
    login(page, "boss")
    shot(page, "dashboard")
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 2
    assert page.locator("svg[role=img] rect").count() >= 30
    assert page.get_by_text("Awaiting shipment").is_visible()
    box = charts.first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
