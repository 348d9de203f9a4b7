import { DataSource } from 'typeorm';
import { buildConfig } from '../config/app.config.js';
import { dataSourceOptions } from './data-source-options.js';

/** The TypeORM CLI's data source (`npm run migration:*`): the same options the app uses. */
const config = buildConfig(process.env);
export default new DataSource(dataSourceOptions(config.database.url, 2));
