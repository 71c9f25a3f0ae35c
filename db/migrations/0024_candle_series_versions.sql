CREATE TABLE "candle_series_versions" (
	"exchange" text NOT NULL,
	"symbol" text NOT NULL,
	"timeframe" text NOT NULL,
	"version" uuid NOT NULL,
	CONSTRAINT "candle_series_versions_pk" PRIMARY KEY("exchange","symbol","timeframe")
);
