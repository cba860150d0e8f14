-- Figures kept beside a record's own quantity, for the report and the audit trail:
-- market_carbon_g   a provider's market-based figure (reported beside the location-based one, never in SCI)
-- reported_carbon_g a tool's own carbon estimate (CodeCarbon, CarbonTracker), kept for comparison only
-- pue_divided       a PUE the tool had already applied and the collector divided out of energy_kwh
-- scope             the GHG Protocol scope of a provider figure ("1", "2", "3")
ALTER TABLE samples ADD COLUMN market_carbon_g DOUBLE;
ALTER TABLE samples ADD COLUMN reported_carbon_g DOUBLE;
ALTER TABLE samples ADD COLUMN pue_divided DOUBLE;
ALTER TABLE samples ADD COLUMN scope VARCHAR;
