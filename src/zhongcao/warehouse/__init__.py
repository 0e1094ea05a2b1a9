"""The platform warehouse (云仓): inbound shipments from shops, warehouse stock, order fulfilment."""
