-- How much of each catalog product orders have reserved; the catalog file holds the stock.
CREATE TABLE product_stock (
    product_id TEXT    PRIMARY KEY,
    reserved   INTEGER NOT NULL CHECK (reserved >= 0)
);
