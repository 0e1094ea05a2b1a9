"""Strings of the address book and the province/city/district picker (issue #17 item 3)."""

PAIRS = {
    # shopper: the address book page
    "address.title": ("收货地址", "Shipping addresses"),
    "address.none": ("还没有保存收货地址，在下面添加一个吧。", "No saved addresses yet: add one below."),
    "address.default": ("默认", "Default"),
    "address.edit": ("编辑", "Edit"),
    "address.make_default": ("设为默认", "Make default"),
    "address.delete": ("删除", "Delete"),
    "address.add_title": ("新增收货地址", "Add an address"),
    "address.edit_title": ("编辑收货地址", "Edit the address"),
    "address.recipient": ("收货人", "Recipient"),
    "address.phone": ("手机号", "Mobile number"),
    "address.phone_hint": ("11 位手机号，快递员联系你用", "11 digits; the courier calls this number"),
    "address.detail": ("详细地址", "Street address"),
    "address.detail_hint": ("街道、门牌号、楼栋和房间号", "Street, number, building and room"),
    "address.set_default": ("设为默认地址", "Make this my default address"),
    "address.save": ("保存地址", "Save the address"),
    "address.cancel": ("取消编辑", "Cancel"),
    "address.saved": ("地址已保存", "Address saved"),
    "address.deleted": ("地址已删除", "Address deleted"),
    "address.default_set": ("已设为默认地址", "Default address changed"),
    # the picker (address book and checkout)
    "address.province": ("省份", "Province"),
    "address.city": ("城市", "City"),
    "address.district": ("区县", "District"),
    "address.pick_province": ("请选择省份", "Choose a province"),
    "address.pick_city": ("请选择城市", "Choose…"),
    "address.pick_district": ("请选择区县", "Choose…"),
    "address.refresh_lists": ("更新城市和区县列表", "Update the city and district lists"),
    "address.refresh_hint": ("选好省份或城市后点这里", "after choosing a province or a city"),
    "address.division_mismatch": (
        "所选城市或区县不属于上一级，请重新选择",
        "This is not in the province or city chosen above: choose again",
    ),
    # checkout
    "address.use_new": ("使用新地址（在下面填写）", "Use a new address (fill it in below)"),
    "address.manage": ("管理收货地址", "Manage addresses"),
    "address.new_hint": ("新地址：", "A new address:"),
    "address.save_to_book": ("保存到我的收货地址", "Save it to my addresses"),
    "address.mobile_only": (
        "保存到收货地址需要 11 位手机号",
        "Saving to your addresses needs an 11-digit mobile number",
    ),
    # API errors shown on pages
    "err.division_mismatch": ("所选城市或区县不属于上一级", "That city or district is not in the one above it"),
    "err.unknown_division": ("没有这个省份、城市或区县", "No such province, city or district"),
    "err.too_many_addresses": ("最多保存 20 个收货地址", "You can save at most 20 addresses"),
    "err.address_not_found": ("没有找到这个地址", "Address not found"),
    "nav.addresses": ("收货地址", "Addresses"),
}
